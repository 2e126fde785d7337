-- pipeline: a collection pipeline over a 10^6-element array -- map a closure, filter
-- with a predicate, reduce with +, each step building a new array as RTFS does.
-- The sum stays below 2^53, so LuaJIT's doubles are exact and print as integers.
local function map(f, v)
  local out = {}
  for i = 1, #v do out[i] = f(v[i]) end
  return out
end

local function filter(p, v)
  local out = {}
  for i = 1, #v do
    if p(v[i]) then out[#out + 1] = v[i] end
  end
  return out
end

local function reduce(f, init, v)
  local acc = init
  for i = 1, #v do acc = f(acc, v[i]) end
  return acc
end

local data = {}
for i = 0, 999999 do data[#data + 1] = i end

local function pipeline(v)
  return reduce(function(a, b) return a + b end, 0,
    filter(function(x) return x % 2 == 0 end,
      map(function(x) return x * 3 end, v)))
end

print(pipeline(data))
