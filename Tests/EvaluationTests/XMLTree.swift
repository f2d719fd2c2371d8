import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML document as a plain tree, for checking generated SVG and HTML.
final class XMLNode {
    let name: String
    let attributes: [String: String]
    var children: [XMLNode] = []
    var text = ""
    weak var parent: XMLNode?

    init(name: String, attributes: [String: String]) { self.name = name; self.attributes = attributes }

    /// Every descendant (and self) that matches.
    func all(_ name: String, where predicate: (XMLNode) -> Bool = { _ in true }) -> [XMLNode] {
        (self.name == name && predicate(self) ? [self] : []) + children.flatMap { $0.all(name, where: predicate) }
    }

    /// Text of this node and its descendants.
    var allText: String { text + children.map(\.allText).joined() }

    func number(_ attribute: String) -> Double? { attributes[attribute].flatMap(Double.init) }

    /// Parses `text`; nil (with the parser's error) when it is not well-formed.
    static func parse(_ text: String) -> (root: XMLNode?, error: String?) {
        let builder = Builder()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = builder
        guard parser.parse() else { return (nil, parser.parserError.map { "\($0)" } ?? "parse failed") }
        return (builder.root, nil)
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: XMLNode?
        var current: XMLNode?
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            let node = XMLNode(name: elementName, attributes: attributes)
            node.parent = current
            current?.children.append(node)
            if root == nil { root = node }
            current = node
        }
        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            current = current?.parent
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { current?.text += string }
    }
}
