-- string_format: build a CSV-like report line by line with string.format and ..,
-- then join the lines with newlines. Prints the length of the result.
local function render(n)
  local lines = {}
  for i = 0, n - 1 do
    lines[i + 1] = string.format("%d,%s,%d", i, "name-" .. (i % 97), i * 3)
  end
  return table.concat(lines, "\n")
end

print(#render(100000))
