/// DEFLATE decompression (RFC 1951), enough to read `np.savez_compressed` files — which is how
/// pytorch-fid saves precomputed statistics. Follows zlib's reference decoder `puff.c`:
/// canonical Huffman codes described by per-length counts, decoded a bit at a time.
struct Inflate {
    struct Failure: Error { let reason: String }

    private let input: [UInt8]
    private var position: Int
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0
    private var output: [UInt8] = []

    /// Decompresses the raw DEFLATE stream `input[start..<end]` (no zlib or gzip wrapper);
    /// `expectedSize` (from the zip directory) reserves the output and is checked at the end.
    static func decompress(_ input: [UInt8], range: Range<Int>, expectedSize: Int) throws -> [UInt8] {
        var state = Inflate(input: Array(input[range]), position: 0)
        state.output.reserveCapacity(expectedSize)
        var last = false
        while !last {
            last = try state.bits(1) == 1
            switch try state.bits(2) {
            case 0: try state.stored()
            case 1: try state.codes(Self.fixedLengths, Self.fixedDistances)
            case 2: try state.dynamic()
            default: throw Failure(reason: "invalid block type 3")
            }
            if state.output.count > expectedSize { throw Failure(reason: "data longer than the recorded size") }
        }
        guard state.output.count == expectedSize else {
            throw Failure(reason: "data is \(state.output.count) bytes, the directory says \(expectedSize)")
        }
        return state.output
    }

    private init(input: [UInt8], position: Int) { self.input = input; self.position = position }

    @inline(__always)
    private mutating func bits(_ need: Int) throws -> Int {
        while bitCount < need {
            guard position < input.count else { throw Failure(reason: "compressed data ends early") }
            bitBuffer |= UInt64(input[position]) << UInt64(bitCount)
            position += 1
            bitCount += 8
        }
        let v = Int(bitBuffer & ((1 << UInt64(need)) - 1))
        bitBuffer >>= UInt64(need)
        bitCount -= need
        return v
    }

    /// A stored block: byte-aligned LEN, its one's complement NLEN, then LEN raw bytes.
    private mutating func stored() throws {
        bitBuffer = 0; bitCount = 0
        guard position + 4 <= input.count else { throw Failure(reason: "compressed data ends early") }
        let len = Int(input[position]) | Int(input[position + 1]) << 8
        let nlen = Int(input[position + 2]) | Int(input[position + 3]) << 8
        position += 4
        guard len == (~nlen & 0xFFFF) else { throw Failure(reason: "stored block length check fails") }
        guard position + len <= input.count else { throw Failure(reason: "compressed data ends early") }
        output.append(contentsOf: input[position..<(position + len)])
        position += len
    }

    /// A canonical Huffman code: how many codes have each length 1…15, and the symbols
    /// ordered by (length, value).
    struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int]

        init(lengths: ArraySlice<Int>) throws {
            symbols = [Int](repeating: 0, count: lengths.count)
            for l in lengths { counts[l] += 1 }
            var left = 1
            for len in 1...15 {
                left = (left << 1) - counts[len]
                if left < 0 { throw Failure(reason: "over-subscribed Huffman code") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
            for (symbol, l) in zip(0..., lengths) where l != 0 {
                symbols[offsets[l]] = symbol
                offsets[l] += 1
            }
        }
    }

    @inline(__always)
    private mutating func decode(_ h: Huffman) throws -> Int {
        var code = 0, first = 0, index = 0
        for len in 1...15 {
            code |= try bits(1)
            let count = h.counts[len]
            if code - count < first { return h.symbols[index + (code - first)] }
            index += count
            first = (first + count) << 1
            code <<= 1
        }
        throw Failure(reason: "invalid Huffman code")
    }

    private static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                     35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                      3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385,
                                       513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7,
                                        8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    /// Literal/length and distance symbols until end-of-block (256).
    private mutating func codes(_ lengths: Huffman, _ distances: Huffman) throws {
        while true {
            let symbol = try decode(lengths)
            if symbol < 256 { output.append(UInt8(symbol)); continue }
            if symbol == 256 { return }
            let li = symbol - 257
            guard li < 29 else { throw Failure(reason: "invalid length symbol \(symbol)") }
            let length = Self.lengthBase[li] + (try bits(Self.lengthExtra[li]))
            let di = try decode(distances)
            guard di < 30 else { throw Failure(reason: "invalid distance symbol \(di)") }
            let distance = Self.distanceBase[di] + (try bits(Self.distanceExtra[di]))
            guard distance <= output.count else { throw Failure(reason: "distance reaches before the start of the data") }
            // Byte by byte: a match may overlap the bytes it produces (distance < length).
            let from = output.count - distance
            for k in 0..<length { output.append(output[from + k]) }
        }
    }

    private static let fixedLengths: Huffman = {
        var l = [Int](repeating: 8, count: 288)
        for i in 144..<256 { l[i] = 9 }
        for i in 256..<280 { l[i] = 7 }
        return try! Huffman(lengths: l[...])
    }()
    private static let fixedDistances = try! Huffman(lengths: [Int](repeating: 5, count: 30)[...])

    /// A block with its own codes: code lengths for the code-length alphabet, then run-length
    /// coded lengths for the literal/length and distance alphabets.
    private mutating func dynamic() throws {
        let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
        guard nlen <= 286, ndist <= 30 else { throw Failure(reason: "bad dynamic block counts") }
        let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
        var lengths = [Int](repeating: 0, count: 320)
        for i in 0..<ncode { lengths[order[i]] = try bits(3) }
        let lencode = try Huffman(lengths: lengths[0..<19])
        var index = 0
        while index < nlen + ndist {
            let symbol = try decode(lencode)
            if symbol < 16 { lengths[index] = symbol; index += 1; continue }
            var value = 0, repeats: Int
            switch symbol {
            case 16:
                guard index > 0 else { throw Failure(reason: "repeat with no previous length") }
                value = lengths[index - 1]; repeats = 3 + (try bits(2))
            case 17: repeats = 3 + (try bits(3))
            default: repeats = 11 + (try bits(7))
            }
            guard index + repeats <= nlen + ndist else { throw Failure(reason: "too many code lengths") }
            for _ in 0..<repeats { lengths[index] = value; index += 1 }
        }
        guard lengths[256] != 0 else { throw Failure(reason: "no end-of-block code") }
        try codes(try Huffman(lengths: lengths[0..<nlen]), try Huffman(lengths: lengths[nlen..<(nlen + ndist)]))
    }
}
