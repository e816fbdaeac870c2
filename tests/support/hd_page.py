"""hd_page.py - the data of a heapdiff --html page, for the tests that
check it (docs/html.md, "The data"): load(path) returns (html, match,
data), data the JSON object with the binary columns its "binary" lists
put in as lists (and "binary" taken out), match the regex match of the
data element."""
import base64
import gzip
import json
import re
import struct

TYPES = {"u16": ("<H", 2), "u32": ("<I", 4), "i32": ("<i", 4), "f64": ("<d", 8)}


def load(path):
    html = open(path).read()
    m = re.search(r'<script type="application/octet-stream" id="hd-data" '
                  r'data-encoding="gzip\+base64\+binary">(.*?)</script>',
                  html, re.S)
    blob = gzip.decompress(base64.b64decode(m.group(1)))
    size = struct.unpack_from("<I", blob)[0]
    d = json.loads(blob[8:8 + size])
    at = (8 + size + 7) & ~7
    for name, kind, n in d.pop("binary"):
        obj, field = name.split(".")
        fmt, width = TYPES[kind]
        d[obj][field] = [v[0] for v in struct.iter_unpack(fmt, blob[at:at + n * width])]
        at = (at + n * width + 7) & ~7
    return html, m, d
