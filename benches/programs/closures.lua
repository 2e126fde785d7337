-- closures: create and call many closures. Each of 10^6 iterations builds two adders
-- and their composition (3 closures), then calls the composition (3 calls).
local function make_adder(n)
  return function(x) return x + n end
end

local function compose(f, g)
  return function(x) return f(g(x)) end
end

local function run(n)
  local acc = 0
  for i = 0, n - 1 do
    local step = compose(make_adder(i), make_adder(1))
    acc = step(acc) % 999983
  end
  return acc
end

print(run(1000000))
