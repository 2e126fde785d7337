-- loop_sum: a tight loop of 10^7 iterations with a loop-carried dependency:
-- acc = (acc + i*i) mod 1000000007. Values stay below 2^53, so LuaJIT's doubles are exact.
local function loop_sum(n)
  local acc = 0
  for i = 0, n - 1 do
    acc = (acc + i * i) % 1000000007
  end
  return acc
end

print(loop_sum(10000000))
