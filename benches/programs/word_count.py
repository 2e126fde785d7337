"""word_count: count the words of a generated text into a dict keyed by strings."""


def make_text(n):
    seed, words = 42, []
    for _ in range(n):
        seed = (seed * 75 + 74) % 65537
        words.append("w" + str(seed % 500))
    return " ".join(words)


def count_words(text):
    counts = {}
    for w in text.split(" "):
        counts[w] = counts.get(w, 0) + 1
    return counts


counts = count_words(make_text(200000))
print(len(counts) * 1000000 + counts["w7"])
