"""What a student uploads: checkpoints (read once per file, within the page's model limits) and
text files, with the server's upload limit in each uploader's label."""

from __future__ import annotations

import hashlib

import streamlit as st

import lstm_core
from lstm_core import Model
from lstm_core.budget import UPLOAD_LIMITS
from ui import frame
from ui.i18n import explain, t


def limit_mb() -> int:
    """The largest file the server takes, in MB: its own setting (server.maxUploadSize in
    .streamlit/config.toml), so a label never states a limit Streamlit does not enforce."""
    return int(st.get_option("server.maxUploadSize"))


def uploaded_file(key: str, types: list[str], label: str) -> tuple[bytes | None, str | None]:
    """Bytes of an uploaded file (or None), and its name."""
    file = st.file_uploader(label, type=types, key=key)
    return (file.getvalue(), file.name) if file is not None else (None, None)


def uploaded_checkpoint(
    prefix: str, label: str, key: str | None = None
) -> tuple[str, Model] | None:
    """A file uploader for a checkpoint (widget key `key`, else "<prefix>_upload"); returns
    (digest, model) once a good file is in, else None.

    The model is read once per file, within UPLOAD_LIMITS[prefix] (kept in this session under
    <prefix>.uploaded, so the page's reset forgets it); a bad file gets one line
    ("<prefix>.upload_bad") and no model.
    """
    data, _ = uploaded_file(key or f"{prefix}_upload", ["npz"], label)
    if data is not None:
        digest = hashlib.sha256(data).hexdigest()[:16]
        if st.session_state.get(f"{prefix}.upload_digest") != digest:
            st.session_state.pop(f"{prefix}.uploaded", None)
            st.session_state[f"{prefix}.upload_digest"] = digest
            try:
                model = lstm_core.load_checkpoint(data, limits=UPLOAD_LIMITS[prefix])
                st.session_state[f"{prefix}.uploaded"] = (digest, model)
            except lstm_core.CheckpointError as exc:
                st.session_state[f"{prefix}.upload_error"] = exc.as_dict()
            else:
                st.session_state.pop(f"{prefix}.upload_error", None)
    if f"{prefix}.upload_error" in st.session_state:
        reason = explain(st.session_state[f"{prefix}.upload_error"])
        st.error(t(f"{prefix}.upload_bad", reason=reason), icon=":material/error:")
    return st.session_state.get(f"{prefix}.uploaded")


def checkpoint_or_stop(page: str, container) -> tuple[str, Model]:
    """A page's checkpoint uploader (in `container`): (digest, model) once a good file is in;
    until then a note asking for one (the page's "<page>.upload_first"), and the page stops."""
    with container:
        uploaded = uploaded_checkpoint(page, t(f"{page}.upload", mb=limit_mb()))
    if uploaded is None:
        st.info(t(f"{page}.upload_first"), icon=":material/upload_file:")
        frame.stop()
    return uploaded
