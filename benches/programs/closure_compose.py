"""closure_compose: build function pipelines out of closures, comp and partial, and call them."""
from functools import partial, reduce
import operator


def comp(f, g):
    return lambda x: f(g(x))


def make_pipeline(k):
    steps = [
        lambda x: x + k,
        lambda x: x * 3,
        partial(operator.add, 7),
        lambda x: x % 1000003,
        comp(lambda x: x + 1, lambda x: 2 * x),
    ]
    return reduce(lambda f, g: (lambda x: g(f(x))), steps, lambda x: x)


def run(rounds, calls):
    acc = 0
    for r in range(rounds):
        f = make_pipeline(r % 7)
        for i in range(calls):
            acc = (acc + f(i + r)) % 1000003
    return acc


print(run(3000, 100))
