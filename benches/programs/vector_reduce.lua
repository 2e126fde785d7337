-- vector_reduce: build a 10^6-element array by appends, then fold it.
-- The sum stays below 2^53, so LuaJIT's doubles are exact and print as integers.
local function build(n)
  local v = {}
  for i = 0, n - 1 do
    v[#v + 1] = 2 * i
  end
  return v
end

local function reduce(f, init, v)
  local acc = init
  for i = 1, #v do
    acc = f(acc, v[i])
  end
  return acc
end

print(reduce(function(a, b) return a + b end, 0, build(1000000)))
