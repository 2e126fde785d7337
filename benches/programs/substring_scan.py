"""substring_scan: slide a 3-character window over a long string with slicing and count
the windows equal to "abc"."""

PIECES = ["ab", "c", "abc", "x", "ca", "é"]


def make_text(n):
    seed, parts = 42, []
    for _ in range(n):
        seed = (seed * 75 + 74) % 65537
        parts.append(PIECES[seed % 6])
    return "".join(parts)


def count_abc(text):
    hits = 0
    for i in range(len(text) - 2):
        if text[i:i + 3] == "abc":
            hits += 1
    return hits


print(count_abc(make_text(80000)))
