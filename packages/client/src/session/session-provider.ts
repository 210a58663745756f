/**
 * The provider a session speaks through: the workspace doc it was given, a control doc
 * beside it (guid `<workspace>/control`, written by the relay alone) and presence on the
 * workspace doc. The Node and browser sessions differ only in the options they pass.
 */
import { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { RelayProvider, type RelayProviderOptions } from '../RelayProvider.js'

export function sessionProvider(workspace: Y.Doc, options: Omit<RelayProviderOptions, 'docs' | 'awareness'>): RelayProvider {
  return new RelayProvider({
    ...options,
    docs: { workspace, control: new Y.Doc({ guid: `${workspace.guid}/control` }) },
    awareness: new Awareness(workspace)
  })
}
