// the rule lives with the contracts, since the store's mail_from and mail_reply_to settings follow it too
export { RECIPIENT_RULE, isOneRecipient } from '../../contracts/mailbox.ts'
