import * as core from '@actions/core'
import { run } from './main'
import { post } from './post'

// One bundle serves both entries of action.yml; the state flag tells them apart.
if (core.getState('isPost') === 'true') {
  void post()
} else {
  core.saveState('isPost', 'true')
  void run()
}
