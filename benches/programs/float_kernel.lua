-- float_kernel: Mandelbrot set membership on a 250x250 grid over [-1.5,0.5]x[-1,1],
-- at most 100 iterations per point -- float arithmetic in nested loops.
-- Prints the number of grid points that never escape.
local MAX_ITER = 100

local function escapes(cr, ci)
  local zr, zi = 0.0, 0.0
  for _ = 1, MAX_ITER do
    if zr * zr + zi * zi > 4.0 then return true end
    zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
  end
  return false
end

local function mandelbrot(n)
  local inside = 0
  for y = 0, n - 1 do
    for x = 0, n - 1 do
      local cr = 2.0 * x / n - 1.5
      local ci = 2.0 * y / n - 1.0
      if not escapes(cr, ci) then inside = inside + 1 end
    end
  end
  return inside
end

print(mandelbrot(250))
