-- substring_scan: slide a 3-byte window over a long string with string.sub and count the
-- windows equal to "abc" ("abc" is ASCII, so byte and character windows find the same).
local pieces = {"ab", "c", "abc", "x", "ca", "é"}

local function make_text(n)
  local seed, parts = 42, {}
  for i = 1, n do
    seed = (seed * 75 + 74) % 65537
    parts[i] = pieces[seed % 6 + 1]
  end
  return table.concat(parts)
end

local function count_abc(text)
  local hits = 0
  for i = 1, #text - 2 do
    if string.sub(text, i, i + 2) == "abc" then hits = hits + 1 end
  end
  return hits
end

print(count_abc(make_text(80000)))
