from rag.text.normal import NUMBER, normalize


def test_full_width_digits_and_thousands_separators_become_plain_numbers() -> None:
    assert NUMBER.findall(normalize("高新技术企业１,２１４家，增长２.５％")) == ["1214", "2.5"]


def test_commas_between_clauses_stay() -> None:
    assert normalize("2020年,达到12.7%") == "2020年,达到12.7%"
