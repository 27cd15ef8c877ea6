/**
 * TSDoc coverage of the SDK's public API, with the TypeScript compiler: every export of the two
 * entries of @nodepool-ts/sdk (`src/plugins/index.ts`, `src/plugins/testing/index.ts`) and every
 * public member of the exported classes and interfaces must carry a doc comment. Exports that
 * come from npm packages (inversify's decorators) are documented there and not counted.
 */
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(__dirname, '../..');
export const SDK_ENTRIES = [path.join(ROOT, 'src/plugins/index.ts'), path.join(ROOT, 'src/plugins/testing/index.ts')];

/** One public thing without a doc comment: `file:line name`. */
export interface Undocumented {
  where: string;
  name: string;
}

/** What {@link sdkDocCoverage} found. */
export interface DocCoverage {
  total: number;
  undocumented: Undocumented[];
}

function hasDoc(decl: ts.Node): boolean {
  // Parameters documented by @param of their constructor count (constructor parameter properties).
  const docs = ts.getJSDocCommentsAndTags(decl);
  return docs.some((d) => (ts.isJSDoc(d) ? Boolean(d.comment) || (d.tags?.length ?? 0) > 0 : true));
}

function isPublicMember(member: ts.Node): boolean {
  const flags = ts.getCombinedModifierFlags(member as ts.Declaration);
  if (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) return false;
  // An override is documented where the base declares it (`override readonly name = 'QuotaError'`).
  if (flags & ts.ModifierFlags.Override) return false;
  // A setter shares the doc comment of its getter.
  if (ts.isSetAccessor(member) && member.parent && (member.parent as ts.ClassDeclaration).members.some((m) => ts.isGetAccessor(m) && m.name.getText() === member.name.getText())) return false;
  const name = (member as ts.NamedDeclaration).name;
  if (name && ts.isPrivateIdentifier(name)) return false;
  return ts.isPropertyDeclaration(member) || ts.isMethodDeclaration(member) || ts.isGetAccessor(member) || ts.isSetAccessor(member)
    || ts.isPropertySignature(member) || ts.isMethodSignature(member);
}

/**
 * Collects the SDK's public declarations and those lacking TSDoc, from `program` (one whose root
 * files include both entries; a fresh one by default).
 */
export function sdkDocCoverage(program: ts.Program = ts.createProgram(SDK_ENTRIES, {
  target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
  experimentalDecorators: true, esModuleInterop: true, skipLibCheck: true, noEmit: true, types: ['node'],
})): DocCoverage {
  const checker = program.getTypeChecker();
  const seen = new Set<ts.Node>();
  const result: DocCoverage = { total: 0, undocumented: [] };
  const record = (decl: ts.Node, name: string): void => {
    if (seen.has(decl)) return;
    seen.add(decl);
    result.total++;
    if (!hasDoc(decl)) {
      const sf = decl.getSourceFile();
      const { line } = sf.getLineAndCharacterOfPosition(decl.getStart());
      result.undocumented.push({ where: `${path.relative(ROOT, sf.fileName)}:${line + 1}`, name });
    }
  };
  for (const entry of SDK_ENTRIES) {
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      for (const decl of symbol.declarations ?? []) {
        if (decl.getSourceFile().fileName.includes('/node_modules/')) continue;
        // A `const x = ...` is documented on its statement.
        const target = ts.isVariableDeclaration(decl) ? decl.parent.parent : decl;
        record(target, exported.name);
        if (ts.isClassDeclaration(decl) || ts.isInterfaceDeclaration(decl)) {
          for (const member of decl.members) {
            if (!isPublicMember(member)) continue;
            // Members that implement or override a documented member inherit its doc.
            if (ts.isClassDeclaration(decl) && !hasDoc(member) && inheritsDoc(checker, decl, member as ts.ClassElement)) continue;
            record(member, `${exported.name}.${(member.name as ts.Identifier | undefined)?.getText() ?? '?'}`);
          }
        }
      }
    }
  }
  return result;
}

/** Whether a class member implements or overrides a member documented in a base type. */
function inheritsDoc(checker: ts.TypeChecker, cls: ts.ClassDeclaration, member: ts.ClassElement): boolean {
  const name = member.name && ts.isIdentifier(member.name) ? member.name.text : undefined;
  if (!name) return false;
  for (const clause of cls.heritageClauses ?? []) {
    for (const typeNode of clause.types) {
      const type = checker.getTypeAtLocation(typeNode);
      const prop = type.getProperty(name);
      if (prop?.declarations?.some(hasDoc)) return true;
    }
  }
  return false;
}
