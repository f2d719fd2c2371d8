// IEEE half (F16) and bfloat16 (BF16) to Float32, bit by bit (no Float16 type needed).

/// binary16 → binary32, exact for every value (subnormals, ±Inf and NaN included).
@inline(__always) public func floatFromF16(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exp = Int((h >> 10) & 0x1F), mant = UInt32(h & 0x3FF)
    if exp == 0 {
        // Zero or subnormal: mant · 2⁻²⁴.
        let v = Float(mant) * (1.0 / 16_777_216.0)
        return sign != 0 ? -v : v
    }
    if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
    return Float(bitPattern: sign | (UInt32(exp - 15 + 127) << 23) | (mant << 13))
}

/// bfloat16 is the top half of a binary32.
@inline(__always) public func floatFromBF16(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
