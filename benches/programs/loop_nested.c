/* loop_nested: two nested loops, 10^5 x 10^3. */
#include <stdio.h>
#include <stdint.h>

int main(void) {
    volatile int64_t n = 100000;  /* volatile: no constant folding */
    int64_t acc = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < 1000; j++)
            acc = (acc + i * j) % 1000000007;
    printf("%lld\n", (long long)acc);
    return 0;
}
