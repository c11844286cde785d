"""ui/state.py: an object kept with the key it was built for, rebuilt when the key changes."""

from streamlit.testing.v1 import AppTest


def kept_script():
    import streamlit as st

    from ui.state import Kept, Memo

    built, gone = [], []
    slot = Kept("page.thing")
    a = slot.rebuilt(1, lambda: built.append(1) or ["a"], replaced=gone.append)
    again = slot.rebuilt(1, lambda: built.append(2) or ["b"], replaced=gone.append)
    b = slot.rebuilt(2, lambda: built.append(3) or ["c"], replaced=gone.append)
    memo, computed = Memo("page.memo", size=2), []
    for key in (1, 2, 1, 3, 1):
        memo.get(key, lambda k=key: computed.append(k) or k)
    st.session_state["result"] = {
        "same": a is again,
        "built": built,
        "gone": gone,
        "b": b,
        "key": st.session_state["page.thing_key"],
        "get_old": slot.get(1),
        "get_now": slot.get(2),
        "dropped": slot.drop(),
        "after": slot.value(),
        "computed": computed,
    }


def test_kept_rebuilds_only_when_its_key_changes_and_memo_keeps_the_latest():
    at = AppTest.from_function(kept_script).run()
    assert not at.exception
    r = at.session_state["result"]
    assert r["same"] and r["built"] == [1, 3] and r["gone"] == [["a"]] and r["b"] == ["c"]
    assert r["key"] == 2 and r["get_old"] is None and r["get_now"] == ["c"]
    assert r["dropped"] == ["c"] and r["after"] is None
    assert r["computed"] == [1, 2, 3, 1]  # 1 kept until 3 came (two at most), then computed anew
