#!/usr/bin/env bash
# test.sh: builds Kiln and runs every test (lit: IR, passes, tools, host end to end,
# mutation fuzzing; gtest: layout algebra, runtimes), ending with "N passed, N failed".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/build.sh"
lit=/usr/lib/llvm-22/bin/lit
xml_main="$root/build/test/results-main.xml"
xml_unit="$root/build/test/results-unit.xml"
status=0
"$lit" -sv --xunit-xml-output "$xml_main" "$root/build/test" || status=1
"$lit" -sv --xunit-xml-output "$xml_unit" "$root/build/test/unit" || status=1
python3 - "$xml_main" "$xml_unit" <<'PY'
import sys, xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sys.argv[1:]:
    for case in ET.parse(path).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
