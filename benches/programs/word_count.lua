-- word_count: count the words of a generated text into a table keyed by strings.
local function make_text(n)
  local seed, words = 42, {}
  for i = 1, n do
    seed = (seed * 75 + 74) % 65537
    words[i] = "w" .. (seed % 500)
  end
  return table.concat(words, " ")
end

local function count_words(text)
  local counts = {}
  for w in string.gmatch(text, "[^ ]+") do
    counts[w] = (counts[w] or 0) + 1
  end
  return counts
end

local counts = count_words(make_text(200000))
local distinct = 0
for _ in pairs(counts) do distinct = distinct + 1 end
print(distinct * 1000000 + counts["w7"])
