"""Edits a copy of an abidw XML file to fake an ABI change, for the negative
tests of scripts/check-abi.sh (scripts/test-packaging.sh abi):

  remove FUNC     FUNC is gone (its symbol and declaration)
  retype FUNC     FUNC's return type becomes another function's parameter type
  shrink STRUCT   STRUCT loses its last field (so the real one has a field
                  appended at its end: must still pass)

    python3 abi_mutate.py IN OUT remove rtc_engine_port
"""

import sys
import xml.etree.ElementTree as ET


def main() -> int:
    src, dst, op, name = sys.argv[1:5]
    tree = ET.parse(src)
    root = tree.getroot()
    parents = {c: p for p in root.iter() for c in p}
    done = False
    if op == "remove":
        for el in list(root.iter()):
            if (el.tag == "elf-symbol" and el.get("name") == name) or (
                el.tag == "function-decl" and el.get("elf-symbol-id") == name
            ):
                parents[el].remove(el)
                done = True
    elif op == "retype":
        fn = next(f for f in root.iter("function-decl") if f.get("elf-symbol-id") == name)
        ret = fn.find("return")
        other = next(
            p.get("type-id")
            for p in root.iter("parameter")
            if p.get("type-id") not in (None, ret.get("type-id"))
        )
        ret.set("type-id", other)
        done = True
    elif op == "shrink":
        st = next(c for c in root.iter("class-decl") if c.get("name") == name and c.get("size-in-bits"))
        members = st.findall("data-member")
        last = members[-1]
        st.set("size-in-bits", last.get("layout-offset-in-bits"))
        st.remove(last)
        done = True
    if not done:
        print(f"abi_mutate: {op} {name}: nothing to edit", file=sys.stderr)
        return 1
    tree.write(dst, encoding="unicode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
