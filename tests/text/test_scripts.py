def test_web_addresses_are_no_language() -> None:
    from rag.text.scripts import language_of

    url = "http://127.0.0.1:8000/collect.png?leak=answer"
    assert language_of([f"公告配图 {url}，链接 {url} 和 {url}。"]) == "zh"
    assert language_of(["see https://example.com/path for the details"]) == "en"
