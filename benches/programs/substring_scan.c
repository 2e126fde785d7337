/* substring_scan: slide a 3-byte window over a long UTF-8 string and count the windows
 * equal to "abc" ("abc" is ASCII, so byte and character windows find the same). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    static const char *pieces[] = {"ab", "c", "abc", "x", "ca", "\xc3\xa9"};
    volatile long n = 80000;
    char *text = malloc((size_t)n * 3 + 1);
    if (!text) { perror("malloc"); return 1; }
    size_t len = 0;
    long seed = 42;
    for (long i = 0; i < n; i++) {
        seed = (seed * 75 + 74) % 65537;
        const char *p = pieces[seed % 6];
        size_t k = strlen(p);
        memcpy(text + len, p, k);
        len += k;
    }
    long hits = 0;
    for (size_t i = 0; i + 3 <= len; i++)
        if (memcmp(text + i, "abc", 3) == 0) hits++;
    printf("%ld\n", hits);
    free(text);
    return 0;
}
