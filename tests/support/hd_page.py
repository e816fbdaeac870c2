"""hd_page.py - the data of a heapdiff --html page, for the tests that
check it (docs/html.md, "The data"): load(path) returns (html, match,
data), data the JSON object with sites.stack_frames and sites.tree_order
put in as lists, match the regex match of the data element."""
import array
import base64
import gzip
import json
import re
import struct


def load(path):
    html = open(path).read()
    m = re.search(r'<script type="application/octet-stream" id="hd-data" '
                  r'data-encoding="gzip\+base64\+frames">(.*?)</script>',
                  html, re.S)
    blob = gzip.decompress(base64.b64decode(m.group(1)))
    size, count, width, sites = struct.unpack("<4I", blob[:16])
    d = json.loads(blob[16:16 + size])
    at = (16 + size + 3) & ~3
    frames = array.array("H" if width == 2 else "I",
                         blob[at:at + count * width])
    at = (at + count * width + 3) & ~3
    order = array.array("I", blob[at:at + 4 * sites])
    d["sites"]["stack_frames"] = frames.tolist()
    d["sites"]["tree_order"] = order.tolist()
    return html, m, d
