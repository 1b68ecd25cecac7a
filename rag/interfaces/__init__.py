"""The front ends: the CLI, the server (API, chat, widget), the LangChain retriever. They call rag.service and nothing below it."""
