"""vector_reduce: build a 10^6-element list by appends, then fold it with reduce."""
import functools
import operator


def build(n):
    v = []
    for i in range(n):
        v.append(2 * i)
    return v


print(functools.reduce(operator.add, build(1000000), 0))
