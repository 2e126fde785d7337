"""string_build: build a long string from 10^5 pieces collected in a list and
joined once with str.join. Prints the length of the result."""


def build(n):
    pieces = []
    for i in range(n):
        pieces.append("item-" + str(i) + ";")
    return "".join(pieces)


print(len(build(100000)))
