import * as core from '@actions/core'
import * as github from '@actions/github'
import { Client } from 'ssh2'
import YAML from 'yaml'
core.info(`ok ${typeof github.getOctokit} ${typeof Client} ${typeof YAML.parse}`)
