import type { ActionDefinition } from '../plugin-api/define-action.ts'
import { createShippingLabel } from './create-shipping-label/create-shipping-label.action.ts'
import { syncAudience } from './sync-audience/sync-audience.action.ts'
import { postSocial } from './post-social/post-social.action.ts'

/** The actions that call remote services (issue 11): shipping labels, social posts, ad audiences. */
export const REMOTE_ACTIONS: ActionDefinition[] = [createShippingLabel, syncAudience, postSocial]
