"""The `rag` command line."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from rag.errors import BadQuestionError, RagError
from rag.service import RagService
from rag.settings import Settings
from rag.types import Answer, ChatMessage, Done, Replace, Token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Local, offline Q&A over your documents."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index files or folders (default: the bundled corpus)")
    p.add_argument("paths", nargs="*", type=Path)
    p.add_argument("--kb", help="knowledge base name (default: settings.kb)")
    p.add_argument("--rebuild", action="store_true", help="build from scratch, then swap in")

    p = sub.add_parser("search", help="hybrid search; without a query, an interactive prompt")
    p.add_argument("query", nargs="?")
    p.add_argument("--k", type=int, default=None)
    p.add_argument("--kb")
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = sub.add_parser("ask", help="answer a question with citations (streams to the terminal)")
    p.add_argument("question", nargs="?", help="without it, an interactive chat with follow-ups")
    p.add_argument("--kb")
    p.add_argument(
        "--json", action="store_true", help="print {answer, citations, refused, retrieved, timings}"
    )

    p = sub.add_parser("remove", help="delete a document's chunks and vectors")
    p.add_argument("path", type=Path)
    p.add_argument("--kb")

    sub.add_parser("models", help="prepare the bundled models once (build, verify, cache)")

    p = sub.add_parser(
        "serve", help="chat UI, API and widget in one server (indexes the corpus if needed)"
    )
    p.add_argument("--host", help="default: settings.host (127.0.0.1)")
    p.add_argument("--port", type=int, help="default: settings.port (7860)")
    p.add_argument("--no-ingest", action="store_true", help="do not index the corpus first")

    kb = sub.add_parser("kb", help="knowledge bases").add_subparsers(
        dest="kb_command", required=True
    )
    kb.add_parser("list", help="list knowledge bases with document and chunk counts")
    p = kb.add_parser(
        "suggest", help="write questions from the passages; keep those answered (minutes)"
    )
    p.add_argument("name")
    p.add_argument("--count", type=int, default=3)
    p = kb.add_parser(
        "check", help="how well its own questions find their passages, per document (minutes)"
    )
    p.add_argument("name")
    p.add_argument("--questions", type=int, default=30)
    p = kb.add_parser(
        "calibrate",
        help="fit its refusal threshold on questions written from its passages (minutes)",
    )
    p.add_argument("name")
    p.add_argument("--questions", type=int, default=30, help="check questions to fit on")
    p = kb.add_parser(
        "states", help="read every passage once and keep its model state (RAG_PASSAGE_STATES)"
    )
    p.add_argument("name")
    p = kb.add_parser("create", help="an empty knowledge base, to ingest or upload into")
    p.add_argument("name")
    p = kb.add_parser("remove", help="delete a knowledge base: its index, states and uploads")
    p.add_argument("name")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = kb.add_parser("docs", help="its documents: id, type, chunks, size, indexed, title")
    p.add_argument("name")
    p = kb.add_parser("reindex", help="read every document again and swap the new index in")
    p.add_argument("name")
    p = kb.add_parser(
        "migrate", help="copy its index to FAISS or Milvus (RAG_MILVUS_URI), embedding nothing"
    )
    p.add_argument("name")
    p.add_argument("--to", choices=["faiss", "milvus"], required=True)
    p = kb.add_parser("show", help="documents, chunks, switches and calibration of one")
    p.add_argument("name")
    p = kb.add_parser("set", help="a knowledge base's own switches, e.g. --ocr off")
    p.add_argument("name")
    p.add_argument(
        "--ocr", choices=["on", "off"], required=True, help="read scans and images by OCR"
    )

    from rag.evaluation.cli import add_eval_parser

    add_eval_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    service = RagService(Settings())
    try:
        return (
            int(args.handler(service, args))
            if hasattr(args, "handler")
            else _dispatch(service, args)
        )
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(service: RagService, args: argparse.Namespace) -> int:
    if args.command == "ingest":
        return _ingest(service, args)
    if args.command == "search":
        return _search(service, args)
    if args.command == "ask":
        return _ask(service, args)
    if args.command == "models":
        return _models(service)
    if args.command == "serve":
        return _serve(service, args)
    if args.command == "remove":
        if service.remove(args.path, args.kb):
            print(f"removed {args.path}")
            return 0
        print(
            f"error: {args.path} is not in knowledge base {service.kb_name(args.kb)!r}",
            file=sys.stderr,
        )
        return 2
    if args.kb_command == "suggest":
        for question in service.make_suggestions(args.name, args.count):
            print(question)
        return 0
    if args.kb_command == "check":
        print(service.check_kb(args.name, args.questions).text())
        return 0
    if args.kb_command == "calibrate":
        print(service.calibrate_kb(args.name, args.questions).text())
        return 0
    if args.kb_command == "states":
        return _kb_states(service, args.name)
    if args.kb_command == "show":
        return _kb_show(service, args.name)
    if args.kb_command == "create":
        service.create_kb(args.name)
        print(f"created {args.name}; add documents with `rag ingest --kb {args.name} PATH`")
        return 0
    if args.kb_command == "remove":
        return _kb_remove(service, args.name, args.yes)
    if args.kb_command == "docs":
        return _kb_docs(service, args.name)
    if args.kb_command == "reindex":
        print(f"{args.name}: {service.reindex(args.name).summary()}")
        return 0
    if args.kb_command == "migrate":
        rows = service.migrate_kb(args.name, args.to, progress=True)
        where = f"Milvus at {service.milvus_uri()}" if args.to == "milvus" else "FAISS"
        print(
            f"{args.name}: {rows} chunks copied to {where}; "
            f"search it there with RAG_VECTOR_STORE={args.to}"
        )
        return 0
    if args.kb_command == "set":
        service.set_kb_option(args.name, "ocr", args.ocr == "on")
        return _kb_list(service)
    return _kb_list(service)


def _prepare_in_background(service: RagService, suggest: bool, calibrate: bool) -> None:
    """Suggested questions and the refusal calibration of the default knowledge base,
    while the server already answers (the language model takes one request at a time,
    so a user's question may wait for one written question: several seconds here)."""
    kb = service.settings.kb
    try:
        if service.settings.passage_states:
            read, chunks = service.build_passage_states(kb)
            print(f"{kb}: passage states ready ({read} of {chunks} read now)", file=sys.stderr)
        if suggest:
            made = service.make_suggestions(kb, progress=False)
            print(f"{len(made)} suggested question(s) ready; reload the chat", file=sys.stderr)
        if calibrate:
            fitted = service.calibrate_kb(kb, progress=False)
            print(f"{kb}: {fitted.text().splitlines()[0]}", file=sys.stderr)
    except Exception as exc:  # the chat works without them
        print(f"preparing {kb} in the background failed: {exc}", file=sys.stderr)


def _serve(service: RagService, args: argparse.Namespace) -> int:
    from rag.interfaces.server.app import serve

    settings = service.settings
    if not args.no_ingest:
        # incremental: seconds when nothing changed, the full build on a fresh machine
        print(f"Indexing {settings.corpus_dir} into {settings.kb!r}...", file=sys.stderr)
        report = service.ingest()
        print(f"{settings.kb}: {report.summary()}", file=sys.stderr)
    suggest = settings.suggest_questions and service.suggestions_outdated(settings.kb)
    calibrate = settings.calibrate_refusal and service.calibration(settings.kb) is None
    if suggest or calibrate or settings.passage_states:
        threading.Thread(
            target=_prepare_in_background, args=(service, suggest, calibrate), daemon=True
        ).start()
    serve(service, args.host or settings.host, args.port or settings.port)
    return 0


def _ingest(service: RagService, args: argparse.Namespace) -> int:
    report = service.ingest(args.paths or None, args.kb, rebuild=args.rebuild)
    print(f"{service.kb_name(args.kb)}: {report.summary()}")
    for path, reason in report.failed:
        print(f"  failed: {path}: {reason}", file=sys.stderr)
    for path, reason in report.skipped:
        print(f"  skipped: {path}: {reason}", file=sys.stderr)
    for path, remark in report.notes:
        print(f"  note: {path}: {remark}", file=sys.stderr)
    # Partial success is success; only "nothing could be read" is an error.
    ok = report.added or report.updated or report.unchanged
    return 0 if ok or not report.failed else 1


def _search(service: RagService, args: argparse.Namespace) -> int:
    if args.query is not None:
        _print_hits(service, args.query, args)
        return 0
    print("Type a question (empty line or Ctrl-D to quit).", file=sys.stderr)
    for line in sys.stdin:
        if not line.strip():
            break
        _print_hits(service, line, args)
    return 0


_HIT_FIELDS = ("rank", "score", "source", "title", "page", "section", "start", "end", "text")


def _print_hits(service: RagService, query: str, args: argparse.Namespace) -> None:
    hits = service.search(query, args.k, args.kb)
    if args.json:
        rows = [{k: h.to_json()[k] for k in _HIT_FIELDS} for h in hits]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for hit in hits:
        page = f"  p. {hit.page}" if hit.page else ""
        print(
            f"[{hit.rank}] {hit.score:.4f}  {hit.source}{page}  {hit.section}"
            f"  ({hit.start}-{hit.end})"
        )
        print("    " + hit.text.replace("\n", " ")[:200])
    print()


def _ask(service: RagService, args: argparse.Namespace) -> int:
    if args.question is not None:
        if args.json:
            print(
                json.dumps(
                    service.ask(args.question, kb=args.kb).to_json(), ensure_ascii=False, indent=2
                )
            )
        else:
            _stream_answer(service, args.kb, args.question, [])
        return 0
    print(
        "Ask a question (empty line or Ctrl-D to quit); follow-ups are understood.", file=sys.stderr
    )
    history: list[ChatMessage] = []
    for line in sys.stdin:
        if not line.strip():
            break
        try:
            answer = _stream_answer(service, args.kb, line, history)
        except BadQuestionError as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        history += [ChatMessage("user", line.strip()), ChatMessage("assistant", answer.text)]
    return 0


def _stream_answer(
    service: RagService, kb: str | None, question: str, history: list[ChatMessage]
) -> Answer:
    answer = None
    for event in service.stream(question, history, kb):
        match event:
            case Token(text):
                print(text, end="", flush=True)
            case Replace(text, withdrawn=True):
                print("\n(checked against the passages: no supported answer)\n" + text, end="")
            case Replace(text):
                print("\n(re-read in the passages' language, with its citations)\n" + text, end="")
            case Done(final):
                answer = final
    assert answer is not None
    print()
    for c in answer.citations:
        page = f" p. {c.page}" if c.page else ""
        print(f"  [{c.n}] {c.source}{page} · {c.section} ({c.start}-{c.end}): {c.text[:80]}")
    t = answer.timings
    print(
        f"  ({t.get('first_token_ms', 0) / 1000:.1f} s to first words, {t['total_ms'] / 1000:.1f} s in all)",
        file=sys.stderr,
    )
    return answer


def _models(service: RagService) -> int:
    for what, where in service.prepare_models():
        print(f"{what}: {where}")
    return 0


def _kb_list(service: RagService) -> int:
    names = service.knowledge_bases()
    if not names:
        print("no knowledge bases yet; run `rag ingest`")
    for name in names:
        info = service.kb_info(name)
        options = _switches(info.options)
        print(
            f"{name}\t{info.documents} documents\t{info.chunks} chunks"
            f"\t{info.passage_states} passage states\t{info.embedding_model}\t{options}"
        )
    return 0


def _kb_states(service: RagService, name: str) -> int:
    if not service.settings.passage_states:
        print("error: passage states are off; set RAG_PASSAGE_STATES=true", file=sys.stderr)
        return 2
    read, chunks = service.build_passage_states(name, progress=True)
    info = service.kb_info(name)
    print(f"{name}: {info.passage_states} of {chunks} passages have a state ({read} read now)")
    return 0


def _kb_remove(service: RagService, name: str, yes: bool) -> int:
    info = service.kb_info(name)
    if not yes:
        if not sys.stdin.isatty():
            print(
                f"error: removing {name!r} needs --yes when not asked at a terminal",
                file=sys.stderr,
            )
            return 2
        answer = input(f"Delete {name!r} with its {info.documents} documents? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("kept")
            return 1
    service.delete_kb(name)
    print(f"removed {name}")
    return 0


def _kb_docs(service: RagService, name: str) -> int:
    docs = service.documents(name)
    if not docs:
        print(f"{service.kb_name(name)} has no documents yet")
    for d in docs:
        size = d.file_size()
        shown = "gone" if size is None else f"{size:,} B"
        print(
            f"{d.id}\t{d.loader}\t{d.chunks} chunks\t{shown}\t{d.ingested_at}\t{d.name}\t{d.title}"
        )
    return 0


def _switches(options: dict[str, bool]) -> str:
    return " ".join(f"{key} {'on' if on else 'off'}" for key, on in options.items())


def _kb_show(service: RagService, name: str) -> int:
    info = service.kb_info(name)
    print(f"{name}: {info.documents} documents, {info.chunks} chunks, {info.embedding_model}")
    print(f"switches: {_switches(info.options)}")
    fitted = service.calibration(name)
    default = service.settings.refusal_min_coverage
    print(fitted.text() if fitted else f"not calibrated: refusal threshold {default} (default)")
    if fitted and not service.settings.calibrate_refusal:
        print(f"  not used: RAG_CALIBRATE_REFUSAL is off, answers use {default}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
