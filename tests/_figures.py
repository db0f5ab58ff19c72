"""Reading plotly figures back from Streamlit's element protos in tests."""

from __future__ import annotations

import base64
import json

import numpy as np


def plotly_array(field) -> np.ndarray:
    """A plotly array field, whether a plain list or plotly's typed-array encoding (``bdata``)."""
    if isinstance(field, dict):
        values = np.frombuffer(base64.b64decode(field["bdata"]), dtype=np.dtype(field["dtype"]))
        shape = field.get("shape")
        return values.reshape([int(d) for d in str(shape).split(",")]) if shape else values
    return np.asarray(field, dtype=float)


def figures_by_key(at) -> dict[str, dict]:
    """Plotly specs of an ``AppTest`` run by chart key (the part of the element id after the hash)."""
    return {chart.proto.id.split("-", 2)[-1]: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}
