import llama_cpp.llama_cpp as lib

from rag.llm.llama_cpp import _weight_repacking


def test_repacking_switch_reaches_llama_cpp_and_is_undone() -> None:
    assert lib.llama_model_default_params().use_extra_bufts  # llama.cpp's own default
    with _weight_repacking(False):
        assert not lib.llama_model_default_params().use_extra_bufts
    with _weight_repacking(True):
        assert lib.llama_model_default_params().use_extra_bufts
    assert lib.llama_model_default_params().use_extra_bufts
