"""Pure split and settle-up arithmetic: exact shares, the leftover-cent rule, few transfers."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expense_service.split import SplitError, largest_remainder, settle_up, split_amount

D = Decimal


def test_equal_split_gives_leftover_cents_to_the_first_listed():
    # 100.00 / 3 = 33.333…: everyone gets 33.33, the one leftover cent goes to the first listed.
    assert split_amount(D("100.00"), 2, "equal", [("a", None), ("b", None), ("c", None)]) == [
        D("33.34"), D("33.33"), D("33.33")]
    # 0.05 / 3: two leftover cents, to the first two.
    assert split_amount(D("0.05"), 2, "equal", [("c", None), ("a", None), ("b", None)]) == [
        D("0.02"), D("0.02"), D("0.01")]
    # A tiny amount leaves some with nothing.
    assert split_amount(D("0.01"), 2, "equal", [("a", None), ("b", None)]) == [D("0.01"), D("0.00")]


def test_percentages_go_to_the_largest_remainders():
    # 10.00 at 33.3 / 33.3 / 33.4 %: quotas 333.0, 333.0, 334.0 cents — exact.
    assert split_amount(D("10.00"), 2, "percent", [("a", D("33.3")), ("b", D("33.3")), ("c", D("33.4"))]) == [
        D("3.33"), D("3.33"), D("3.34")]
    # 0.10 at 15 / 15 / 70 %: quotas 1.5, 1.5, 7 cents; 1 left over, the tie goes to the first listed.
    assert split_amount(D("0.10"), 2, "percent", [("a", D("15")), ("b", D("15")), ("c", D("70"))]) == [
        D("0.02"), D("0.01"), D("0.07")]


def test_shares_are_weights_and_currencies_keep_their_minor_unit():
    # 1000 JPY (no minor unit) in weights 1:2: quotas 333.3 and 666.7 → 333 and 667.
    assert split_amount(D("1000"), 0, "shares", [("a", D("1")), ("b", D("2"))]) == [D("333"), D("667")]
    # 1.000 KWD (3 digits) in weights 1:1:1 → 0.334, 0.333, 0.333.
    assert split_amount(D("1.000"), 3, "shares", [("a", D("1")), ("b", D("1")), ("c", D("1"))]) == [
        D("0.334"), D("0.333"), D("0.333")]


def test_exact_amounts_must_add_up_to_the_amount():
    assert split_amount(D("10"), 2, "exact", [("a", D("7.5")), ("b", D("2.50"))]) == [D("7.50"), D("2.50")]
    with pytest.raises(SplitError) as error:
        split_amount(D("10.00"), 2, "exact", [("a", D("7.50")), ("b", D("2.49"))])
    assert error.value.field == "participants" and "9.99" in error.value.message


@pytest.mark.parametrize(("mode", "participants", "field"), [
    ("percent", [("a", D("50")), ("b", D("49.9"))], "participants"),
    ("percent", [("a", D("150")), ("b", D("-50"))], "participants.0.value"),
    ("shares", [("a", D("0")), ("b", D("0"))], "participants"),
    ("shares", [("a", D("1")), ("b", None)], "participants.1.value"),
    ("exact", [("a", D("5.005")), ("b", D("4.995"))], "participants.0.value"),
    ("percent", [("a", D("33.3333333")), ("b", D("66.6666667"))], "participants.0.value"),
    ("shares", [("a", D("1")), ("b", D("1." + "0" * 40 + "1"))], "participants.1.value"),
    ("equal", [("a", None), ("b", D("1"))], "participants.1.value"),
    ("equal", [("a", None), ("a", None)], "participants.1.user_id"),
    ("equal", [], "participants"),
])
def test_impossible_splits_name_the_offending_input(mode, participants, field):
    with pytest.raises(SplitError) as error:
        split_amount(D("10.00"), 2, mode, participants)
    assert error.value.field == field


@settings(max_examples=300, deadline=None)
@given(
    units=st.integers(min_value=1, max_value=10**12),
    digits=st.sampled_from([0, 2, 3]),
    count=st.integers(min_value=1, max_value=12),
    mode=st.sampled_from(["equal", "percent", "shares", "exact"]),
    data=st.data(),
)
def test_shares_always_sum_exactly_to_the_amount(units, digits, count, mode, data):
    amount = D(units).scaleb(-digits)
    users = [f"u{i}" for i in range(count)]
    if mode == "equal":
        values = [None] * count
    elif mode == "shares":
        values = [D(w) for w in data.draw(st.lists(st.integers(0, 1000), min_size=count, max_size=count)
                                          .filter(lambda ws: sum(ws) > 0))]
    else:  # percent and exact: cut the whole (10000 basis points, or the amount's units) at random points
        whole = 10_000 if mode == "percent" else units
        cuts = sorted(data.draw(st.lists(st.integers(0, whole), min_size=count - 1, max_size=count - 1)))
        parts = [b - a for a, b in zip([0, *cuts], [*cuts, whole], strict=True)]
        values = [D(p).scaleb(-2 if mode == "percent" else -digits) for p in parts]
    shares = split_amount(amount, digits, mode, list(zip(users, values, strict=True)))
    assert sum(shares) == amount
    assert all(s >= 0 and s.as_tuple().exponent == -digits for s in shares)
    if mode == "equal":
        assert max(shares) - min(shares) <= D(1).scaleb(-digits)  # nobody pays more than a minor unit extra


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=15))
def test_settling_up_squares_everyone_in_at_most_n_minus_1_transfers(raw):
    nets = [D(n).scaleb(-2) for n in raw]
    nets.append(-sum(nets))  # balances of a group always sum to zero
    balances = {f"user{i:02d}": n for i, n in enumerate(nets)}
    transfers = settle_up(balances)
    after = dict(balances)
    for t in transfers:
        assert t.amount > 0 and balances[t.from_user] < 0 < balances[t.to_user]  # debtors pay creditors
        after[t.from_user] += t.amount
        after[t.to_user] -= t.amount
    assert all(v == 0 for v in after.values())
    involved = sum(1 for v in balances.values() if v != 0)
    assert len(transfers) <= max(involved - 1, 0)


def test_largest_remainder_refuses_nonsense():
    with pytest.raises(ValueError):
        largest_remainder(10, [])
    with pytest.raises(ValueError):
        settle_up({"a": D("1"), "b": D("-0.99")})
