-- string_build: build a long string from 10^5 pieces collected in a table and
-- joined once with table.concat. Prints the length of the result.
local function build(n)
  local pieces = {}
  for i = 0, n - 1 do
    pieces[#pieces + 1] = "item-" .. i .. ";"
  end
  return table.concat(pieces)
end

print(#build(100000))
