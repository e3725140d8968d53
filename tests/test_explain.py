"""backprop.explain: the headline that says which gradients are right and where the error enters."""
from backprop.explain import Stage, across_tensors, layer_stages

MLP = layer_stages(2, "at the output", lambda l: f"check sigma'(z^{l})")
RNN = (Stage(("dx",), "in the deltas"), Stage(("dh0", "dWx", "dWh", "db"), "after the deltas"))


def ok(wrong, labels=("dW2", "db2", "dW1", "db1")):
    return {label: label not in wrong for label in labels}


def test_error_entering_between_layers():
    headline, quiet = across_tensors(ok({"dW1", "db1"}), MLP)
    assert headline == "dW2 and db2 right; dW1 and db1 wrong: the error enters between layer 2 and layer 1: check sigma'(z^1)."
    assert quiet == set()


def test_downstream_gradients_are_consequences():
    headline, quiet = across_tensors(ok({"dW2", "db2", "dW1", "db1"}), MLP)
    assert headline.startswith("dW2 and db2 wrong: the error enters at the output. dW1 and db1 are computed from")
    assert quiet == {"dW1", "db1"}


def test_a_right_sibling_means_the_signal_is_right():
    headline, quiet = across_tensors(ok({"dW1"}), MLP)
    assert "dW1 wrong, although db1, computed from the same error signal, is right" in headline
    headline, _ = across_tensors(ok({"dx"}, ("dx", "dh0", "dWx", "dWh", "db")), RNN)
    assert headline.startswith("dx wrong, although dh0, dWx, dWh and db")


def test_no_single_place_is_named_when_the_evidence_is_mixed():
    headline, quiet = across_tensors(ok({"dx", "dWx"}, ("dx", "dh0", "dWx", "dWh", "db")), RNN)
    assert headline == "dh0, dWh and db right; dx and dWx wrong." and quiet == set()


def test_nothing_to_say():
    assert across_tensors(ok(set()), MLP) is None
    assert across_tensors({"dx": False}, RNN) is None
