"""Write README.md from nbs/index.ipynb.

`nbdev-readme` needs Quarto, which cannot be installed on the project's machines; this renders the
same notebook without it: markdown cells verbatim, code cells hidden when they say `#| echo: false`,
PNG outputs saved under nbs/images/ and linked. `--check` exits 1 when README.md is out of date.
"""
import base64, json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent

def render(nb_path=root/'nbs'/'index.ipynb', img_dir=root/'nbs'/'images'):
    nb = json.loads(Path(nb_path).read_text())
    out, n_img = [], 0
    for cell in nb['cells']:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown':
            if src.startswith('# ') and not out:        # title + description, as nbdev-readme does
                lines = src.splitlines()
                desc = [l[2:] for l in lines[1:] if l.startswith('> ')]
                out.append(lines[0] + '\n\n' + ('\n'.join(desc) + '\n' if desc else ''))
            # links relative to nbs/ (the docs site's root) point into nbs/ from the repository root
            else: out.append(re.sub(r'\]\((?!https?:|#|/)([^)]+)\)', r'](nbs/\1)', src) + '\n')
            continue
        directives = dict(re.findall(r'^#\|\s*([\w-]+):?\s*(.*)$', src, re.M))
        if 'hide' in directives: continue
        code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
        if directives.get('echo', '').strip() != 'false' and code: out.append(f'```python\n{code}\n```\n')
        for o in cell.get('outputs', []):
            data = o.get('data', {})
            if 'image/png' in data:
                n_img += 1
                p = img_dir/f'index_{n_img}.png'
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(base64.b64decode(data['image/png']))
                out.append(f'![]({p.relative_to(root).as_posix()})\n')
    return '\n'.join(out)

if __name__ == '__main__':
    text = render()
    readme = root/'README.md'
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit('README.md is out of date with nbs/index.ipynb: run python tools/make_readme.py')
    else: readme.write_text(text); print(f'wrote {readme}')
