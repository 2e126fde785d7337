/* fib35: naive doubly-recursive Fibonacci -- measures function-call overhead. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#ifndef N
#define N 35
#endif

/* noinline keeps gcc from unrolling the recursion into something unrecognisable */
static __attribute__((noinline)) int64_t fib(int64_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(void) {
    volatile int64_t n = N;  /* volatile: no constant folding */
    printf("%lld\n", (long long)fib(n));
    return 0;
}
