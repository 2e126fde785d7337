-- records: filter and group records (tables with string keys), sum salaries per group.
local function make_records(n)
  local seed, out = 42, {}
  for i = 0, n - 1 do
    seed = (seed * 75 + 74) % 65537
    out[#out + 1] = {
      id = i,
      dept = seed % 10,
      age = 20 + seed % 45,
      salary = 1000 + (seed * 7) % 5000,
      active = seed % 2 == 0,
    }
  end
  return out
end

local function summarise(records)
  local groups = {}
  for _, r in ipairs(records) do
    if r.active and r.age > 30 then
      local g = groups[r.dept]
      if not g then g = {}; groups[r.dept] = g end
      g[#g + 1] = r
    end
  end
  local acc = 0
  for dept, rs in pairs(groups) do
    local sum = 0
    for _, r in ipairs(rs) do sum = sum + r.salary end
    acc = acc + (dept + 1) * sum
  end
  return acc
end

print(summarise(make_records(100000)))
