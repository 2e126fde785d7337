"""pipeline: a collection pipeline over a 10^6-element list -- map a lambda, filter with
a predicate, reduce with +. Sum of 3x over the even x below 10^6."""
import functools
import operator

data = list(range(1000000))


def pipeline(v):
    return functools.reduce(
        operator.add, filter(lambda x: x % 2 == 0, map(lambda x: x * 3, v)), 0)


print(pipeline(data))
