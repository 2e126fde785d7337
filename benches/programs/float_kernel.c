/* float_kernel: Mandelbrot set membership on a 250x250 grid over [-1.5,0.5]x[-1,1],
 * at most 100 iterations per point -- float arithmetic in nested loops.
 * Prints the number of grid points that never escape. */
#include <stdio.h>

#define MAX_ITER 100

static int escapes(double cr, double ci) {
    double zr = 0.0, zi = 0.0;
    for (int k = 0; k < MAX_ITER; k++) {
        if (zr * zr + zi * zi > 4.0)
            return 1;
        double t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
    }
    return 0;
}

int main(void) {
    volatile int n = 250;  /* volatile: no constant folding */
    long inside = 0;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            double cr = 2.0 * x / n - 1.5;
            double ci = 2.0 * y / n - 1.0;
            if (!escapes(cr, ci))
                inside++;
        }
    printf("%ld\n", inside);
    return 0;
}
