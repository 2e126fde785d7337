"""loop_sum: a tight loop of 10^7 iterations with a loop-carried dependency:
acc = (acc + i*i) mod 1000000007."""


def loop_sum(n):
    acc = 0
    for i in range(n):
        acc = (acc + i * i) % 1000000007
    return acc


print(loop_sum(10000000))
