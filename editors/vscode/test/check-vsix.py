#!/usr/bin/env python3
# The .vsix that meson's projmodel-vsix target packs (editors/vscode/tools/vsix.js): a VSIX
# package (zip with [Content_Types].xml and extension.vsixmanifest naming the extension) holding
# the source package.json unchanged, its "main" and every module it requires, its own copy of
# vscode-jsonrpc (vendor/, at the version the lock pins), the README documenting every setting
# and command it contributes, and none of the tests, tools, lock file or node_modules.
# Usage: check-vsix.py EXT.vsix editors/vscode/package.json
import json
import re
import sys
import zipfile

vsix, source_manifest = sys.argv[1], sys.argv[2]
failed = []
passed = 0


def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        failed.append(what)
        print(f"FAIL: {what}")


with open(source_manifest) as fh:
    source = json.load(fh)
with zipfile.ZipFile(vsix) as z:
    names = set(z.namelist())
    check("[Content_Types].xml" in names, "[Content_Types].xml in the package")
    check("extension.vsixmanifest" in names, "extension.vsixmanifest in the package")
    manifest = z.read("extension.vsixmanifest").decode() if "extension.vsixmanifest" in names else ""
    m = re.search(r"<Identity ([^>]*)/>", manifest)
    ident = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))) if m else {}
    want = {"Id": source["name"], "Version": source["version"], "Publisher": source["publisher"]}
    check({k: ident.get(k) for k in want} == want,
          f"the manifest identifies {source['publisher']}.{source['name']}@{source['version']}: {ident}")
    packed = json.loads(z.read("extension/package.json")) if "extension/package.json" in names else {}
    for key in ("name", "publisher", "version", "main", "engines", "activationEvents", "contributes", "dependencies"):
        check(packed.get(key) == source.get(key), f"extension/package.json has the source's {key!r}")
    main = "extension/" + source["main"].removeprefix("./")
    check(main in names, f"'main' ({source['main']}) is in the package")
    # Every relative require of the packed modules resolves inside the package.
    modules = sorted(n for n in names if re.fullmatch(r"extension/[^/]+\.js", n))
    for m in modules:
        for dep in re.findall(r"require\('\./([^']+)'\)", z.read(m).decode()):
            target = f"extension/{dep}" if dep.endswith(".js") else f"extension/{dep}.js"
            check(target in names, f"{m} requires ./{dep}, packed")
    version = source["devDependencies"]["vscode-jsonrpc"]
    pj = "extension/vendor/vscode-jsonrpc/package.json"
    check(pj in names and json.loads(z.read(pj))["version"] == version,
          f"vendor/vscode-jsonrpc@{version} is packed")
    for m in ("node.js", "lib/node/main.js", "lib/common/api.js", "lib/common/connection.js"):
        check(f"extension/vendor/vscode-jsonrpc/{m}" in names, f"vendor/vscode-jsonrpc/{m} (daemon.js loads it)")
    check(not any("node_modules/" in n for n in names), "no node_modules packed")
    readmes = [n for n in names if n.lower() == "extension/readme.md"]
    check(readmes, "the README is packed")
    # The README (the Marketplace page and VS Code's extension view) documents every setting
    # and command the manifest contributes.
    readme = z.read(readmes[0]).decode() if readmes else ""
    contributes = source.get("contributes", {})
    for key in contributes.get("configuration", {}).get("properties", {}):
        check(f"`{key}`" in readme, f"the README documents the setting {key}")
    for cmd in contributes.get("commands", []):
        check(cmd["title"] in readme, f"the README lists the command '{cmd['title']}'")
    check(not any(n.startswith(("extension/test/", "extension/tools/")) for n in names), "no tests or tools packed")
    check("extension/package-lock.json" not in names, "no lock file packed")

print(f"{passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
