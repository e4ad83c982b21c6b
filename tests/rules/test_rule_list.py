"""The rule list is ordered as the seed guide reads (architecture first, memory last) and names are unique."""
from selector.rules import RULES, describe


def test_rules_in_seed_order():
    assert [rule.NAME for rule in RULES] == [
        "architecture_supported", "libraries_support_model", "backend_runs_on_accelerator", "image_in_region", "image_runs_on_gpu",
        "quantization_offered",
        "quantization_hardware", "tp_within_devices", "tp_divides_heads", "tp_divides_kv_heads", "fp8_blocks_divide_tp",
        "host_memory_fits", "device_memory_fits", "calibration_memory_fits", "meets_slo",
    ]


def test_rule_names_unique_and_match_files():
    names = [rule.NAME for rule in RULES]
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert rule.__name__.rsplit(".", 1)[-1] == rule.NAME


def test_every_rule_documents_its_condition():
    for name, sentence in describe():
        assert sentence and sentence.endswith((".", ")")), name
