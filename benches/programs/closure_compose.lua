-- closure_compose: build function pipelines out of closures, comp and partial, and call them.
local function identity(x) return x end
local function add(a, b) return a + b end
local function inc(x) return x + 1 end
local function partial(f, a) return function(x) return f(a, x) end end
local function comp(f, g) return function(x) return f(g(x)) end end

local function make_pipeline(k)
  local steps = {
    function(x) return x + k end,
    function(x) return x * 3 end,
    partial(add, 7),
    function(x) return x % 1000003 end,
    comp(inc, function(x) return 2 * x end),
  }
  local f = identity
  for _, g in ipairs(steps) do
    local prev = f
    f = function(x) return g(prev(x)) end
  end
  return f
end

local function run(rounds, calls)
  local acc = 0
  for r = 0, rounds - 1 do
    local f = make_pipeline(r % 7)
    for i = 0, calls - 1 do
      acc = (acc + f(i + r)) % 1000003
    end
  end
  return acc
end

print(run(3000, 100))
