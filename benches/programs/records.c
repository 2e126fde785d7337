/* records: filter and group records (structs), sum salaries per group. */
#include <stdio.h>
#include <stdlib.h>

typedef struct { long id, dept, age, salary; int active; } Record;

int main(void) {
    volatile long n = 100000;
    Record *rs = malloc((size_t)n * sizeof(Record));
    long *members = malloc((size_t)n * sizeof(long));
    long counts[10] = {0}, starts[10], fill[10];
    if (!rs || !members) { perror("malloc"); return 1; }
    long seed = 42;
    for (long i = 0; i < n; i++) {
        seed = (seed * 75 + 74) % 65537;
        rs[i] = (Record){i, seed % 10, 20 + seed % 45, 1000 + (seed * 7) % 5000, seed % 2 == 0};
    }
    for (long i = 0; i < n; i++)
        if (rs[i].active && rs[i].age > 30) counts[rs[i].dept]++;
    for (long d = 0, at = 0; d < 10; d++) { starts[d] = fill[d] = at; at += counts[d]; }
    for (long i = 0; i < n; i++)
        if (rs[i].active && rs[i].age > 30) members[fill[rs[i].dept]++] = i;
    long acc = 0;
    for (long d = 0; d < 10; d++) {
        long sum = 0;
        for (long j = starts[d]; j < fill[d]; j++) sum += rs[members[j]].salary;
        acc += (d + 1) * sum;
    }
    printf("%ld\n", acc);
    free(members);
    free(rs);
    return 0;
}
