# Sample: the data acquisition format's fields, checked as the sample is built.
from fwtest import AXES, raises

import ei

# all on the emulated Pico ([rp2]): the data acquisition format from the port's json and floats
RP2 = "all"
ONLY = {
    "test_appending_the_rows_made_room_for_allocates_nothing": (
        "micropython", "the heap is a board's (gc.mem_alloc, which CPython has not, and "
        "CPython makes an int object for most numbers)"),
}



def make(**kw):
    args = dict(device_type="TEST", interval_ms=10, sensors=AXES)
    args.update(kw)
    return ei.Sample(**args)


def test_append_keeps_rows_in_order():
    s = make()
    s.append((1, 2, 3))
    s.append([4.5, -5, 6])
    assert len(s) == 2
    assert [list(r) for r in s.iter_rows()] == [[1.0, 2.0, 3.0], [4.5, -5.0, 6.0]]


def test_rows_made_room_for_are_appended_and_more_still_fit():
    s = make(rows=2)
    assert len(s) == 0 and list(s.iter_rows()) == []
    for r in ((1, 2, 3), (4, 5, 6), (7, 8, 9)):
        s.append(r)
    assert [list(r) for r in s.iter_rows()] == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0],
                                                [7.0, 8.0, 9.0]]
    raises(ValueError, make, rows=-1)


def test_appending_the_rows_made_room_for_allocates_nothing():
    import gc
    s = make(rows=200)
    row = (1.5, -2.25, 9.75)
    gc.collect()
    gc.disable()  # nothing is freed meanwhile: mem_alloc counts every allocation
    try:
        before = gc.mem_alloc()
        for _ in range(200):
            s.append(row)
        grew = gc.mem_alloc() - before
    finally:
        gc.enable()
    assert grew == 0, grew
    assert len(s) == 200 and list(list(s.iter_rows())[199]) == [1.5, -2.25, 9.75]


def test_append_refuses_a_row_of_the_wrong_width_naming_it():
    s = make()
    s.append((1, 2, 3))
    e = raises(ValueError, s.append, (1, 2))
    assert "row 1 has 2 values" in str(e) and "3 sensors" in str(e)
    assert len(s) == 1


def test_append_refuses_non_numbers_and_bools():
    s = make()
    raises(TypeError, s.append, (1, "2", 3))
    raises(TypeError, s.append, (1, True, 3))
    raises(TypeError, s.append, 7)
    assert len(s) == 0


def test_nan_and_infinities_are_refused():
    s = make()
    raises(ValueError, s.append, (1, float("nan"), 3))
    raises(ValueError, s.append, (float("inf"), 0, 0))
    raises(ValueError, s.append, (0, 0, float("-inf")))


def test_list_values_are_checked_when_the_sample_is_made():
    e = raises(ValueError, make, values=[[1, 2, 3], [1, 2]])
    assert "row 1" in str(e)


def test_interval_ms_must_be_a_positive_number():
    raises(ValueError, make, interval_ms=None)
    raises(ValueError, make, interval_ms=0)
    raises(ValueError, make, interval_ms=-5)
    raises(TypeError, make, interval_ms="10")


def test_sensors_must_be_name_units_pairs():
    raises(ValueError, make, sensors=[])
    raises(ValueError, make, sensors=[("accX",)])
    raises(ValueError, make, sensors=[("accX", "")])
    raises(ValueError, make, device_type="")


def test_iterable_values_need_their_row_count():
    raises(ValueError, make, values=iter([(1, 2, 3)]))
    s = make(values=iter([(1, 2, 3)]), rows=1)
    assert not s.reusable and len(s) == 1


def test_iterable_is_read_once_and_checked_row_by_row():
    s = make(values=iter([(1, 2, 3), (4, 5)]), rows=2)
    rows = s.iter_rows()
    assert list(next(rows)) == [1, 2, 3]
    raises(ValueError, next, rows)
    raises(ValueError, lambda: list(s.iter_rows()))


def test_iterable_with_fewer_or_more_rows_than_announced_fails():
    e = raises(ValueError, lambda: list(make(values=iter([(1, 2, 3)]), rows=2).iter_rows()))
    assert "1 rows, not rows=2" in str(e)
    e = raises(ValueError, lambda: list(make(values=iter([(1, 2, 3)] * 3), rows=2).iter_rows()))
    assert "more than rows=2" in str(e)
