import json, copy
from stix2validator import validate_instance, ValidationOptions
b = json.load(open('all-types.json'))
cases = []
def add(o, what):
    cases.append((what, o))
for obj in b['objects']:
    add(copy.deepcopy(obj), f"{obj['type']}: unchanged")
    for k, v in obj.items():
        o = copy.deepcopy(obj); del o[k]; add(o, f"{obj['type']}: delete {k}")
        o = copy.deepcopy(obj)
        o[k] = 12345 if isinstance(v, str) else "x"
        add(o, f"{obj['type']}: retype {k}")
        if isinstance(v, str):
            o = copy.deepcopy(obj); o[k] = ""; add(o, f"{obj['type']}: empty {k}")
            o = copy.deepcopy(obj); o[k] = "2016-13-01T00:00:00Z"; add(o, f"{obj['type']}: badts {k}")
            o = copy.deepcopy(obj); o[k] = "identity--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"; add(o, f"{obj['type']}: identity-ref {k}")
        if isinstance(v, list):
            o = copy.deepcopy(obj); o[k] = []; add(o, f"{obj['type']}: emptylist {k}")
            o = copy.deepcopy(obj); o[k] = v + ["relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"]; add(o, f"{obj['type']}: addrel {k}")
        if isinstance(v, int) and not isinstance(v, bool):
            o = copy.deepcopy(obj); o[k] = -1; add(o, f"{obj['type']}: negative {k}")
    o = copy.deepcopy(obj); o["Bad Prop"] = 1; add(o, f"{obj['type']}: bad custom name")
    o = copy.deepcopy(obj); o["x_ok_prop"] = 1; add(o, f"{obj['type']}: good custom")
opts = ValidationOptions(version="2.1")
with open('corpus.ndjson','w') as f, open('oracle.jsonl','w') as g:
    for what, o in cases:
        f.write(json.dumps(o, ensure_ascii=False) + "\n")
        try:
            r = validate_instance(o, opts)
            errs = [str(e) for e in r.errors]
            g.write(json.dumps({"case": what, "valid": r.is_valid, "errors": errs, "warnings": [str(w) for w in r.warnings]}) + "\n")
        except Exception as e:
            g.write(json.dumps({"case": what, "valid": False, "errors": ["EXC " + repr(e)], "warnings": []}) + "\n")
print(len(cases))
