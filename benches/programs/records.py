"""records: filter and group records (dicts with string keys), sum salaries per group."""


def make_records(n):
    seed, out = 42, []
    for i in range(n):
        seed = (seed * 75 + 74) % 65537
        out.append({"id": i, "dept": seed % 10, "age": 20 + seed % 45,
                    "salary": 1000 + (seed * 7) % 5000, "active": seed % 2 == 0})
    return out


def summarise(records):
    groups = {}
    for r in records:
        if r["active"] and r["age"] > 30:
            groups.setdefault(r["dept"], []).append(r)
    return sum((dept + 1) * sum(r["salary"] for r in rs) for dept, rs in groups.items())


print(summarise(make_records(100000)))
