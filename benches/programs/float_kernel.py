"""float_kernel: Mandelbrot set membership on a 250x250 grid over [-1.5,0.5]x[-1,1],
at most 100 iterations per point -- float arithmetic in nested loops.
Prints the number of grid points that never escape."""

MAX_ITER = 100


def escapes(cr, ci):
    zr = zi = 0.0
    for _ in range(MAX_ITER):
        if zr * zr + zi * zi > 4.0:
            return True
        zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
    return False


def mandelbrot(n):
    inside = 0
    for y in range(n):
        for x in range(n):
            cr = 2.0 * x / n - 1.5
            ci = 2.0 * y / n - 1.0
            if not escapes(cr, ci):
                inside += 1
    return inside


print(mandelbrot(250))
