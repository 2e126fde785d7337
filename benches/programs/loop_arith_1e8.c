/* loop_arith_1e8: loop_sum_1e8's shape with other arithmetic. */
#include <stdio.h>
#include <stdint.h>

int main(void) {
    volatile int64_t n = 100000000;  /* volatile: no constant folding */
    int64_t acc = 0;
    for (int64_t i = 0; i < n; i++)
        acc = (acc * 31 + i * 7) % 1000003;
    printf("%lld\n", (long long)acc);
    return 0;
}
