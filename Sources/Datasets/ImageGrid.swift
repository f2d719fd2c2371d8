/// A labelled grid of pictures: `tiles[row][column]`, each enlarged by an integer `scale` with
/// nearest-neighbour (so 16×16 samples stay crisp and checkable by eye), with optional row labels
/// at the left, column labels on top, a caption under each tile and a title — for dataset
/// previews and seed-matched side-by-side model comparisons (rows = models, columns = seeds).
///
/// Text uses `BitmapFont`; captions wrap to the tile width. Rows may hold different numbers of
/// tiles; a tile smaller than the largest is centred in its cell.
public struct ImageGrid {
    public var tiles: [[RGBImage]]
    public var scale: Int
    public var rowLabels: [String]?
    public var columnLabels: [String]?
    /// `captions[row][column]` under each tile (missing entries draw nothing).
    public var captions: [[String]]?
    public var title: String?
    /// Font enlargement (1 = 5×7 pixel glyphs).
    public var textScale: Int
    public var padding: Int
    public var background = RGB(255, 255, 255)
    public var ink = RGB(24, 24, 24)

    public init(tiles: [[RGBImage]], scale: Int = 1, rowLabels: [String]? = nil, columnLabels: [String]? = nil,
                captions: [[String]]? = nil, title: String? = nil, textScale: Int = 1, padding: Int = 6) {
        precondition(scale >= 1 && textScale >= 1 && padding >= 0, "grid scale, text scale and padding must be positive")
        self.tiles = tiles; self.scale = scale; self.rowLabels = rowLabels; self.columnLabels = columnLabels
        self.captions = captions; self.title = title; self.textScale = textScale; self.padding = padding
    }

    /// `images` laid out `columns` to a row, each with its caption.
    public init(images: [RGBImage], captions: [String]? = nil, columns: Int, scale: Int = 1, title: String? = nil) {
        precondition(columns >= 1, "a grid needs at least one column")
        let rows = stride(from: 0, to: images.count, by: columns).map { Array(images[$0..<min($0 + columns, images.count)]) }
        let caps = captions.map { c in stride(from: 0, to: c.count, by: columns).map { Array(c[$0..<min($0 + columns, c.count)]) } }
        self.init(tiles: rows, scale: scale, captions: caps, title: title)
    }

    /// The composed picture.
    public func render() -> RGBImage {
        let cols = max(tiles.map { $0.count }.max() ?? 0, columnLabels?.count ?? 0, 1)
        let cellW = max((tiles.flatMap { $0 }.map { $0.width }.max() ?? 0) * scale, BitmapFont.cellWidth * textScale)
        let cellH = (tiles.flatMap { $0 }.map { $0.height }.max() ?? 0) * scale
        let lineH = BitmapFont.lineHeight * textScale, charW = BitmapFont.cellWidth * textScale
        let perLine = max(1, (cellW + textScale) / charW)

        let wrappedCaptions: [[[String]]] = tiles.indices.map { r in
            (0..<cols).map { c in
                guard let caps = captions, r < caps.count, c < caps[r].count, !caps[r][c].isEmpty else { return [] }
                return BitmapFont.wrap(caps[r][c], maxChars: perLine)
            }
        }
        let captionLines = wrappedCaptions.map { row in row.map { $0.count }.max() ?? 0 }
        let rowLabelLines = tiles.indices.map { r in BitmapFont.wrap(rowLabels.flatMap { r < $0.count ? $0[r] : nil } ?? "", maxChars: 24) }
        let labelW = rowLabels == nil ? 0 : (rowLabelLines.flatMap { $0 }.map { $0.count }.max() ?? 0) * charW + padding
        let colLabelLines = (0..<cols).map { c in BitmapFont.wrap(columnLabels.flatMap { c < $0.count ? $0[c] : nil } ?? "", maxChars: perLine) }
        let colLabelH = columnLabels == nil ? 0 : (colLabelLines.map { $0.count }.max() ?? 0) * lineH + padding / 2
        let titleLines = title.map { BitmapFont.wrap($0, maxChars: max(perLine, (labelW + cols * (cellW + padding)) / charW)) } ?? []
        let titleH = titleLines.isEmpty ? 0 : titleLines.count * lineH + padding

        let rowH = tiles.indices.map { r in max(cellH + (captionLines[r] > 0 ? 2 * textScale + captionLines[r] * lineH : 0),
                                               rowLabelLines[r].count * lineH) }
        let width = padding + labelW + cols * (cellW + padding)
        let height = padding + titleH + colLabelH + rowH.reduce(0) { $0 + $1 + padding }
        var out = RGBImage(width: width, height: height, fill: background)

        var y = padding
        for (i, line) in titleLines.enumerated() {
            BitmapFont.draw(line, into: &out, x: padding, y: y + i * lineH, colour: ink, scale: textScale)
        }
        y += titleH
        let x0 = padding + labelW
        if columnLabels != nil {
            for (c, lines) in colLabelLines.enumerated() {
                for (i, line) in lines.enumerated() {
                    BitmapFont.draw(line, into: &out, x: x0 + c * (cellW + padding), y: y + i * lineH, colour: ink, scale: textScale)
                }
            }
            y += colLabelH
        }
        for (r, row) in tiles.enumerated() {
            for (i, line) in rowLabelLines[r].enumerated() where rowLabels != nil {
                BitmapFont.draw(line, into: &out, x: padding, y: y + max(0, (cellH - rowLabelLines[r].count * lineH) / 2) + i * lineH,
                                colour: ink, scale: textScale)
            }
            for (c, tile) in row.enumerated() {
                let big = tile.upscaled(by: scale)
                let tx = x0 + c * (cellW + padding) + (cellW - big.width) / 2, ty = y + (cellH - big.height) / 2
                blit(big, into: &out, x: tx, y: ty)
                for (i, line) in wrappedCaptions[r][c].enumerated() {
                    BitmapFont.draw(line, into: &out, x: x0 + c * (cellW + padding), y: y + cellH + 2 * textScale + i * lineH,
                                    colour: ink, scale: textScale)
                }
            }
            y += rowH[r] + padding
        }
        return out
    }

    func blit(_ tile: RGBImage, into out: inout RGBImage, x: Int, y: Int) {
        for row in 0..<tile.height {
            let d = ((y + row) * out.width + x) * 3, s = row * tile.width * 3
            out.pixels.replaceSubrange(d..<(d + tile.width * 3), with: tile.pixels[s..<(s + tile.width * 3)])
        }
    }
}
