/* loop_sum_1e8: a tight loop of 10^8 iterations with a loop-carried dependency:
 * acc = (acc + i*i) mod 1000000007. */
#include <stdio.h>
#include <stdint.h>

int main(void) {
    volatile int64_t n = 100000000;  /* volatile: no constant folding */
    int64_t acc = 0;
    for (int64_t i = 0; i < n; i++)
        acc = (acc + i * i) % 1000000007;
    printf("%lld\n", (long long)acc);
    return 0;
}
