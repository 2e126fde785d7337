"""string_format: build a CSV-like report line by line with %-formatting and +, then
join the lines with newlines. Prints the length of the result."""


def render(n):
    lines = []
    for i in range(n):
        lines.append("%d,%s,%d" % (i, "name-" + str(i % 97), i * 3))
    return "\n".join(lines)


print(len(render(100000)))
